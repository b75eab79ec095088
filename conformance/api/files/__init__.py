"""Files (OpenAI API reference, "Files"): the upload, content and deletion a Batch API lifecycle needs."""

from conformance.api.operation import Answer, Operation

OPERATIONS = (
    Operation("files.create", "POST", "files", answer="file", body="multipart",
              section="OpenAI API reference, Files: upload file"),
    Operation("files.content", "GET", "files/{file_id}/content", answer="batch.output", body="none",
              decoding="jsonl", section="OpenAI API reference, Files: retrieve file content"),
    Operation("files.delete", "DELETE", "files/{file_id}", answer="file.deleted", body="none",
              section="OpenAI API reference, Files: delete file"),
)

ANSWERS = (
    Answer("file", "OpenAIFile", "an uploaded file object", object="file"),
    Answer("file.deleted", "DeleteFileResponse", "a file deletion answer"),
)
