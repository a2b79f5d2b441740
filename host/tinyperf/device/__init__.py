"""The device under test as the host reaches it: boards and their ports, the link (serial, recorded,
faulty), the protocol on it (legacy text, tinyperf extension), the connection that negotiates and
recovers, the `Device` API, and emulated boards (QEMU, posix) and labgrid places."""
