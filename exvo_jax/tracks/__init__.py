"""The competition tracks end to end: data to trained model to scores and submissions."""
