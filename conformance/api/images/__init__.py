"""Images (OpenAI API reference, "Images"): generation."""

from conformance.api.operation import Answer, Operation

OPERATIONS = (
    Operation("images.generate", "POST", "images/generations", answer="images", sdk_required=("model", "prompt"),
              section="OpenAI API reference, Images: create image"),
)

ANSWERS = (
    Answer("images", "ImagesResponse", "an image generation response"),
)
