"""The formats each report comes in, in one place: the command line offers them (it imports this
module and nothing heavier, so that `--help` stays quick) and the renderers dispatch on them."""

CHECK_FORMATS = ("text", "json", "junit", "sarif", "markdown", "html")

# a review's formats, with the file name suffix each gets when several go to `--out DIR`
REVIEW_FORMATS = {"text": "txt", "json": "json", "markdown": "md", "sarif": "sarif", "github": "github.txt"}
