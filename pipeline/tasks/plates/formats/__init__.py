"""The on-disk layouts plate datasets come in, one module each, detected per folder.

- `greenparking`: `location.txt` lists of `<file> <n> <x> <y> <w> <h> [<plate text>]` in pixels;
- `ultralytics`: `images/` (or `image/`) beside `labels/`, maybe under `train/valid/test`,
  class names in a `*.yaml` with `names:`;
- `labelimg`: a same-stem `.txt` beside each image, class names in `classes.txt`.

`tree` lists the files safely, `rows` makes manifest rows, `yolo` parses YOLO label files,
`report` sums the manifest up per folder for the validation report.
"""
