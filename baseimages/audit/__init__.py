"""`audit`: what the registry holds for each catalog image, checked against what promotion promises."""
