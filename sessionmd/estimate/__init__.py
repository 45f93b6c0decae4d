"""Token estimates for plans: the model (``model``), the formula (``compute``), the text (``render``).

    Plan --estimate_plan(model, quota)--> PlanEstimate --render_*--> text inside sessionmd's markers

``arith`` holds the exact arithmetic both sides share, so the text shows what was computed.
"""
