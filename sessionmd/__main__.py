"""``python -m sessionmd`` runs the same CLI as the ``sessionmd`` console script."""

from sessionmd.cli import main

if __name__ == "__main__":
    main()
