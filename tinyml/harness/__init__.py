"""Talking to a device: the EEMBC/MLPerf Tiny protocol (protocol.py, pure),
transports (transport.py: serial device, TCP socket, pty) and a small client
(client.py). No TensorFlow here."""
