"""Video: streaming decode/encode (``rehue.video.io``) and the colouring pipeline built on it."""
