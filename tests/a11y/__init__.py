"""The real window read and driven over the AT-SPI accessibility bus, as a screen reader would."""
