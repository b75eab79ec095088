"""Batch (OpenAI API reference, "Batch"): create, poll and cancel a batch."""

from conformance.api.operation import Answer, Operation

OPERATIONS = (
    Operation("batches.create", "POST", "batches", answer="batch", section="OpenAI API reference, Batch: create"),
    Operation("batches.retrieve", "GET", "batches/{batch_id}", answer="batch", body="none",
              section="OpenAI API reference, Batch: retrieve"),
    Operation("batches.cancel", "POST", "batches/{batch_id}/cancel", answer="batch", body="none",
              section="OpenAI API reference, Batch: cancel"),
)

ANSWERS = (
    Answer("batch", "Batch", "a batch object", object="batch"),
    Answer("batch.output", "BatchOutputFile", "a batch's output file (each line)"),
)
