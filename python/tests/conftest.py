import os
import sys

# run from the source tree without installing
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
