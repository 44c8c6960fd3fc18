"""fp8forge: RTL generators and a bit-exact golden model for FP8 training hardware."""

__version__ = "0.1.0"
