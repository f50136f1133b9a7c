"""The OpenVINO CPU engine: int8-weight graphs over a CTranslate2 model directory."""
