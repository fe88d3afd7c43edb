# Server settings for Binder, matching what the `mi-lab` command passes to Voila.
from mi_widgets._limits import WEBSOCKET_MAX_MESSAGE_BYTES
from mi_widgets.cli import CULL_IDLE_TIMEOUT_S, CULL_INTERVAL_S

c = get_config()
# Uploads arrive in one websocket message; tornado's 10 MiB default drops larger ones silently.
c.ServerApp.tornado_settings = {"websocket_max_message_size": WEBSOCKET_MAX_MESSAGE_BYTES}
# Kernels of closed tabs are not shut down by Voila itself.
c.MappingKernelManager.cull_interval = CULL_INTERVAL_S
c.MappingKernelManager.cull_idle_timeout = CULL_IDLE_TIMEOUT_S
c.MappingKernelManager.cull_connected = False
c.MappingKernelManager.cull_busy = True
# notebook 7's JupyterLab extension cannot load in Voila's page.
c.VoilaConfiguration.extension_denylist = ["@jupyter-notebook/lab-extension"]
