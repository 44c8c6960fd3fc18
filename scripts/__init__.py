"""fp8forge command-line tool and flows (thin CLI over library functions)."""
