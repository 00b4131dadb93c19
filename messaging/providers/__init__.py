"""Channel providers, one module each. Importing this package registers them."""

from importlib import import_module

PROVIDER_MODULES = ["messaging.providers.sandbox", "messaging.providers.whatsapp_cloud"]

for _module in PROVIDER_MODULES:
    import_module(_module)
