"""segcli: customer segmentation reports from sales records."""

__version__ = "0.1.0"
