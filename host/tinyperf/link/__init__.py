"""Byte transports behind one small interface, chosen by pyserial URL."""

from tinyperf.link.base import Link
from tinyperf.link.recorder import RecordingLink
from tinyperf.link.serial_link import SerialLink, open_link

__all__ = ["Link", "RecordingLink", "SerialLink", "open_link"]
