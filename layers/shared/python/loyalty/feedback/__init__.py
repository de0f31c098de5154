"""Feedback: intake through SQS, classification, routing, the staff workflow, deadlines and reports."""
