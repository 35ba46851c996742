# CML runs cdsw-build.sh from the project root when it builds a model's image (docs/workspace.md §2b). The image
# is made from a snapshot of the project that leaves out what .gitignore names (node_modules and dot-directories
# such as .cml-lab by default), so the install job's Node.js and node_modules may not be in it: install them into
# the image the same way. Idempotent: it finds them and stops when the snapshot has them.
python3 launchers/install.py
