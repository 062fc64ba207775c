"""Pays first-use costs once, in setup: anny's model cache, Warp kernels, Mitsuba's JIT."""
