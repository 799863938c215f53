"""Image supply: base images, the hermetic wheelhouse, image builds and saved archives."""
