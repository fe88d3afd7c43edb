"""Limits shared by the server command and the upload widgets (no UI imports)."""

#: Largest file a user may upload into an app, in bytes (20 MiB).
UPLOAD_LIMIT_BYTES = 20 * 2**20

#: Tornado's websocket message cap for the Voila server, in bytes.
#: ipywidgets sends an upload in one message; tornado's default (10 MiB) drops a larger
#: message silently. The cap sits well above the upload limit so that a file somewhat over
#: the limit still arrives and the app can say it is too large instead of staying silent.
WEBSOCKET_MAX_MESSAGE_BYTES = 256 * 2**20
