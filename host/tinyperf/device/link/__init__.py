"""Byte transports behind one small interface, chosen by pyserial URL."""

from tinyperf.device.link.base import Link
from tinyperf.device.link.recorder import RecordingLink
from tinyperf.device.link.serial_link import SerialLink, open_link

__all__ = ["Link", "RecordingLink", "SerialLink", "open_link"]
