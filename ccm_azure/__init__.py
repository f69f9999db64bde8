"""ccm-azure: render, check, package and deploy the CCM node-agent offer on Azure."""

__version__ = "0.1.0"
