"""Masking: personal data leaves a profile only as consistent, realistic stand-ins.

rules.py (the rules, parsing them, checking one fits its field), standins.py (Masker: the keyed
stand-in of a value), suggest.py (rules suggested from the schema), apply.py (what the engine asks:
a record's stand-ins and the labels kept instead of them), keys.py (a target profile's key and
policy), preview.py (what a preview shows of the masking).
"""
