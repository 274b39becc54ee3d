"""Hardware plugins, accelerators from their datasheets: add a vendor as a new module here, listed in HARDWARE_PLUGINS.

`nvidia`: the A100, H100 and H200. A third party's accelerator is the same module outside acct,
loaded with `-p FILE`, or a TOML file given to `--hardware FILE.toml` (README, "Adding hardware").
"""
