"""Start the chat page: `python app.py` (same as `qa serve`). Settings come from QA_* variables."""

from qa.app import main

if __name__ == "__main__":
    main()
