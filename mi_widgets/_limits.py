"""Limits shared by the server command and the upload widgets (no UI imports)."""

#: Largest file a user may upload into an app, in bytes (20 MiB).
UPLOAD_LIMIT_BYTES = 20 * 2**20

#: Tornado's stream buffer: no websocket message can be larger (``IOStream``'s default
#: ``max_buffer_size``, which Voila's HTTP server keeps), in bytes.
TORNADO_STREAM_BUFFER_BYTES = 100 * 2**20

#: Tornado's websocket message cap for the Voila server, in bytes (96 MiB).
#: ipywidgets sends an upload in one message; tornado's default (10 MiB) drops a larger
#: message silently. The cap sits well above the upload limit, so that a file somewhat over
#: the limit still arrives and the app can say it is too large, and below the stream
#: buffer, which is the real cap: a larger setting would only promise what cannot arrive.
#: A message above the cap closes the page's connection to its kernel.
WEBSOCKET_MAX_MESSAGE_BYTES = 96 * 2**20

#: Most atoms in one structure (one frame) that a file may hold: what the 3D view shows.
MAX_FRAME_ATOMS = 20_000

#: Most atoms read from one file, all frames together.
MAX_READ_ATOMS = 100_000
