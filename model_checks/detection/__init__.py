"""Box detectors (``--task detection``): ground truth, decoders, box geometry, COCO-style metrics and the
attacks and triggers that make objects disappear or move."""
