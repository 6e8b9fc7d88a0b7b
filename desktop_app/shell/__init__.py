"""The shell: :class:`MainWindow` (assembles the features' docks, menus and toolbar), the app entry
(:func:`run`, :func:`main`), the theme and the Help menu (shortcuts list, About box)."""
