"""The rules, one module per family; importing this package registers them all."""

from ccm_azure.validate.rules import node_agent, ui_definition

__all__ = ["node_agent", "ui_definition"]
