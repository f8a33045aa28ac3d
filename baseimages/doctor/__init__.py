"""doctor: what stands between this machine and a green run, as findings with a fix each."""
