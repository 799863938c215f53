"""Docker primitives: one way to connect, image builds as a stream, containers, volumes,
and the settings a foreign architecture needs under QEMU."""
