"""nas_insights: views of real searches, drawn against NanoBench's exact ground truth."""
