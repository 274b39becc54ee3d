"""NVIDIA's accelerators (A100, H100, H200) for training and inference estimates: peak dense FLOP/s by dtype, memory, bandwidth, from datasheets.

Link and network bandwidths are per device and per direction: NVIDIA quotes NVLink as the total of
both directions (A100 600 GB/s, H100 900 GB/s), so one direction is half. The network is one
400 Gb/s (H100, H200: DGX H100's eight ConnectX-7) or 200 Gb/s (A100: DGX A100's eight ConnectX-6)
InfiniBand port per device, i.e. 50 or 25 GB/s. Eight devices a node, as in the DGX and HGX boards.
"""

from acct import Hardware, hookimpl

# dense peak FLOP/s of the GH100 in its SXM5 form, as the H100 and the H200 both ship it
GH100_SXM = {"fp32": "66.9e12", "tf32": "494.7e12", "bf16": "989.4e12", "fp16": "989.4e12"}


@hookimpl
def acct_register_hardware(register):
    register(
        Hardware(
            name="a100",
            description="NVIDIA A100 SXM4 80GB",
            memory=80 * 10**9,
            bandwidth=2_039 * 10**9,
            # dense: TF32 156 and FP16/BF16 312 are half the datasheet's with-sparsity figures
            flops={"fp32": "19.5e12", "tf32": 156 * 10**12, "bf16": 312 * 10**12, "fp16": 312 * 10**12},
            source="NVIDIA A100 Tensor Core GPU datasheet (2021): FP32 19.5 TFLOPS, BF16 312 TFLOPS, "
            "80GB HBM2e, 2,039 GB/s, NVLink 600 GB/s; DGX A100: 8 GPUs, 8× 200 Gb/s HDR InfiniBand",
            link_bandwidth=300 * 10**9,
            network_bandwidth=25 * 10**9,
            gpus_per_node=8,
        )
    )
    register(
        Hardware(
            name="h100",
            description="NVIDIA H100 SXM5 80GB",
            memory=80 * 10**9,
            bandwidth=3_350 * 10**9,
            # the datasheet's BF16 1,979 TFLOPS is with 2:4 sparsity; the whitepaper gives dense 989.4
            flops=GH100_SXM,
            source="NVIDIA H100 Tensor Core GPU Architecture whitepaper (2022), Table 3, H100 SXM5: FP32 66.9, "
            "TF32 494.7, BF16 989.4 TFLOPS dense (1,978.9 with sparsity); datasheet: 80GB HBM3, 3.35 TB/s, "
            "NVLink 900 GB/s; DGX H100: 8 GPUs, 8× 400 Gb/s NDR InfiniBand",
            link_bandwidth=450 * 10**9,
            network_bandwidth=50 * 10**9,
            gpus_per_node=8,
        )
    )
    register(
        Hardware(
            name="h200",
            description="NVIDIA H200 SXM 141GB",
            memory=141 * 10**9,
            bandwidth=4_800 * 10**9,
            # the same GH100 compute as the H100 SXM5, with more and faster memory
            flops=GH100_SXM,
            source="NVIDIA H200 Tensor Core GPU datasheet (2024), SXM: FP32 67, BF16 1,979 TFLOPS with sparsity "
            "(the H100 SXM5's compute: 989.4 dense), 141GB HBM3e, 4.8 TB/s, NVLink 900 GB/s; DGX H200: 8 GPUs, "
            "8× 400 Gb/s NDR InfiniBand",
            link_bandwidth=450 * 10**9,
            network_bandwidth=50 * 10**9,
            gpus_per_node=8,
        )
    )
