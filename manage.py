#!/usr/bin/env python
"""Django's manage.py, for developers used to it; ``kehu`` is the same thing."""

from kehu.cli import main

if __name__ == "__main__":
    main()
