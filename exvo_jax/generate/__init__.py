"""Generate track: training-side pieces of the mel GAN (losses, weight averaging); the networks live in
`exvo_jax.models.msg_gan`."""
