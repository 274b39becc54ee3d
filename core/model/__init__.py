"""From a preset or config.json to a model's sheet: plugins, presets, importers, the cells."""
