"""The pages: views per page group and what they share (drafts, forms, bulk CSV, wizard, headers)."""
