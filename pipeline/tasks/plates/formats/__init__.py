"""The on-disk layouts plate datasets come in, one module each, detected per folder.

- `greenparking`: `location.txt` lists of `<file> <n> <x> <y> <w> <h> [<plate text>]` in pixels;
- `ultralytics`: `images/` (or `image/`) beside `labels/`, maybe under `train/valid/test`,
  class names in a `*.yaml` with `names:`;
- `labelimg`: a same-stem `.txt` beside each image, class names in `classes.txt`;
- `voc`: Pascal VOC XML beside each image (labelImg) or in the devkit's `Annotations/`;
- `coco`: COCO JSON (Roboflow's `_annotations.coco.json`, or `annotations/instances_*.json`);
- `createml`: CreateML JSON (centre boxes in pixels) beside the images;
- `ccpd`: CCPD, whose file names are the annotation.

`tree` lists the files safely, `rows` makes manifest rows, `yolo` parses YOLO label files,
`pixels` turns pixel boxes into YOLO boxes, `jsonfiles` tells JSON layouts apart, `unknown`
refuses label files no reader reads, `accounting` counts every file's role, and `report`
sums the manifest up per folder for the validation report.
"""
