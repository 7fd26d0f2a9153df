"""Entry script of the PyInstaller bundle: the same ``app.main:main`` as the
``live-transcriber`` gui-script that ``pip``/``pipx`` installs."""

import os
import sys

# qasync picks the first Qt binding it can import, starting with PyQt5, and obeys QT_API when
# it is set (some desktops export QT_API=pyqt5 for other tools). The bundle carries PySide6
# only, so it is the one to use, whatever the environment says.
os.environ["QT_API"] = "pyside6"

from app.main import main  # noqa: E402  (after QT_API on purpose)

if __name__ == "__main__":
    sys.exit(main())
