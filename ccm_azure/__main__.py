"""`python -m ccm_azure` runs the same command as `ccm-azure`."""

from ccm_azure.cli import main

raise SystemExit(main())
