"""A hardware plugin: AMD Instinct MI300X, peak dense FLOP/s by dtype, memory and bandwidths from its datasheet."""

import acct


@acct.hookimpl
def acct_register_hardware(register):
    register(acct.Hardware(
        name="mi300x",
        description="AMD Instinct MI300X OAM 192GB",
        memory="192GB",
        bandwidth="5.3TB",  # bytes per second
        # dense (without sparsity): TF32 653.7, FP16/BF16 1,307.4 TFLOPS
        flops={"fp32": "163.4e12", "tf32": "653.7e12", "bf16": "1307.4e12", "fp16": "1307.4e12"},
        source="AMD Instinct MI300X accelerator data sheet (2023): FP32 163.4, TF32 653.7, FP16/BF16 1,307.4 "
        "TFLOPS dense, 192GB HBM3, 5.3 TB/s, Infinity Fabric 896 GB/s (both directions, 7 links)",
        link_bandwidth="448GB",  # the 896 GB/s in one direction
        gpus_per_node=8,
    ))
