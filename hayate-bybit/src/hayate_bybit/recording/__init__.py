"""Recording live frames to files, and reading recordings and Bybit history files back."""
