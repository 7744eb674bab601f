# The pages a client or a share recipient sees (English). Every key here is also in
# ../fr/client.ftl; a test fails when one is missing.

language-switch-label = Language
firm-line = { $firm }

## The upload page (client_portal.html)
portal-title = Send documents to { $firm }
portal-intro = Use this page to send documents securely to { $firm }. Files are encrypted as soon as they arrive; only the firm can open them. Once the firm has taken them into its own records they are deleted from this portal. You will not see other people's uploads, and they will not see yours.
portal-limits = Up to { $max_files } files at a time, each at most { $max_size }.
portal-accepted = Accepted: { $accepted }. Programs, scripts and Office files with macros are refused.
portal-kept = Files you send are kept here for at most { $kept_for }, then deleted for good; the firm often deletes them sooner, once they are in its own records.
link-works-until = This link works until { $when }.
portal-choose = Choose files, or drop them here
portal-send = Send securely
portal-contact = Questions? { $contact }

## The passcode forms (client_passcode.html, client_share_passcode.html)
passcode-title = Passcode — { $firm }
passcode-portal-intro = This portal is protected by a passcode. { $firm } gave it to you separately from the link.
passcode-share-intro = These documents are protected by a passcode. { $firm } gave it to you separately from the link.
passcode-label = Passcode
passcode-continue = Continue
passcode-wrong = That passcode is not right. Please check it and try again.

## The receipt (client_receipt.html and the page's script)
receipt-title = Receipt — { $firm }
receipt-heading = Received, thank you
receipt-intro = { $firm } has received these files for “{ $label }”. Keep this receipt: the SHA-256 fingerprint proves exactly which file arrived.
receipt-keep = Keep this receipt: the SHA-256 fingerprint proves exactly which file arrived.
receipt-file = File
receipt-size = Size
receipt-fingerprint = SHA-256
receipt-line = Receipt { $id } · { $when }
receipt-print = Print or save this receipt
receipt-more = Send more files

## Per-file states on the upload page (upload.js); the script fills in {total}, {received}, {refused}
file-waiting = waiting
file-too-large = too large: this file is over the size limit
file-sending = sending
file-checking = checking
file-accepted = received
file-refused = refused
file-failed = not sent
file-connection-lost = connection lost; not sent
file-cancelled = cancelled
file-time-left = { $percent }%, about { $left } left
file-resuming = connection lost; resuming…
file-cancel = Cancel
file-progress = Progress of { $name }
summary-all = All files were received: { "{total}" }.
summary-some = Files received: { "{received}" } of { "{total}" }; not received: { "{refused}" }. The reason is shown next to each file.
summary-none = No file was received. The reasons are shown next to each file.

## The share page (client_share.html)
share-title = Documents from { $firm }
share-heading = Documents for { $recipient }
share-intro = { $firm } shares these documents with you. Each download is recorded, and PDF and image files carry your name and the time of the download.
share-downloads = { $max ->
    [one] Each file can be downloaded once.
   *[other] Each file can be downloaded { $max } times.
}
share-file = File
share-size = Size
share-download = Download
share-downloaded = downloaded
share-none = No files are available.

## Durations (how long files are kept), with the count as { $n } and the unit as { $unit }
duration = { $unit ->
    [week] { $n ->
        [one] 1 week
       *[other] { $n } weeks
    }
    [day] { $n ->
        [one] 1 day
       *[other] { $n } days
    }
    [hour] { $n ->
        [one] 1 hour
       *[other] { $n } hours
    }
    [minute] { $n ->
        [one] 1 minute
       *[other] { $n } minutes
    }
   *[second] { $n ->
        [one] 1 second
       *[other] { $n } seconds
    }
}

## The instruction sheet a lawyer prints for the client (instructions.html)
sheet-title = How to send your documents to { $firm }
sheet-heading = How to send your documents to { $firm }
sheet-for = For: { $label }
sheet-open-heading = 1. Open your personal link
sheet-open = Type this address into your browser, or scan the code with your phone's camera. The page shows the name { $firm }; there you choose your files and send them. You need no account and no program.
sheet-qr-label = QR code of the link above
sheet-passcode-heading = 2. The passcode
sheet-passcode = The page asks for a passcode. { $firm } gives it to you separately, by another channel (for example by telephone or text message). It is never written on this sheet nor sent together with the link: do not keep the two together.
sheet-no-passcode = This link needs no passcode. Keep the link to yourself: anyone who has it can send files to the firm.
sheet-genuine-heading = 3. How to recognise a genuine link
sheet-genuine-start = A genuine link begins exactly with { $prefix } (check the address bar before you choose files).
sheet-genuine-name = The page shows the name { $firm } and never asks you to sign in, to install anything or to pay.
sheet-genuine-never = { $firm } will never ask for your passcode by e-mail. If a message or a page seems wrong, do not send anything and call the firm at a number you already know.
sheet-files-heading = 4. What happens to your files
sheet-files-encrypted = Files are encrypted as soon as they arrive; only { $firm } can open them, and nobody else who uses a link sees them.
sheet-receipt = After sending you get a receipt with a fingerprint (SHA-256) of each file: print it or save it.
sheet-printed = Sheet printed on { $when }

## Why a file or a request was refused (said on client pages; English pages keep the server's
## detailed text, these are for the other languages and must say the same)
refusal-title = The file was not received
request-id = Request id
refusal-executable = This file is a program or a script; programs and scripts cannot be sent.
refusal-macros = This Office file contains macros; please save it without macros (for example as .docx or .xlsx) or as a PDF.
refusal-disguised = This file's name ends in .{ $ext } but its content is of another type; please check that you chose the right file.
refusal-not-allowed = Files of this type cannot be sent here. Accepted types: { $accepted }.
refusal-old-office = An older Office file (.doc, .xls, .ppt) cannot be sent here; please save it in the current format (.docx, .xlsx, .pptx) or as a PDF.
refusal-archive = This archive or Office file cannot be checked (too large once unpacked, too many files inside, nested too deep, or damaged), so it was refused.
refusal-malware = This file was refused: the malware scanner found { $signature } in it. Please check the file with your IT support before sending it again.
refusal-personal-data = This file was refused because it appears to contain { $kinds }. Please remove or redact them and send the file again.
refusal-too-large = The file is larger than this link accepts ({ $max } at most).
refusal-too-many-files = At most { $max } files can be sent at once.
refusal-share-exhausted = This file has been downloaded as many times as the share allows; ask the firm for a new share.
refusal-interrupted = The upload was interrupted; please send the file again.
refusal-empty = This file is empty; please check that you chose the right file.
refusal-no-name = The file has no name; please choose it again.
refusal-no-file = No file was sent; choose at least one file.
refusal-scan-unavailable = Files cannot be checked for malware right now; please try again in a few minutes.
refusal-busy = The service is busy; please try again in a moment.
refusal-checks-busy = Too many files are being checked; please try again shortly.
refusal-link-busy = This link already has { $max } unfinished uploads; finish or cancel one, or wait until they expire.
refusal-more-than-announced = More bytes arrived than the file's announced size.
refusal-check-later = The file could not be checked yet; it will be tried again shortly.
refusal-still-checking = The file is still being checked; ask again in a moment.
refusal-too-slow = The file arrived too slowly and was stopped; please try again.
refusal-rate-limited = Too many requests. Please wait a minute and try again.
refusal-checksum = The bytes sent do not match their checksum; send them again.
refusal-unavailable = The service is temporarily unavailable. Please try again in a moment.
refusal-internal = Something went wrong on our side. Please try again.
refusal-link-locked = Too many wrong passcodes: this link is locked until { $until }. The person who sent it can unlock it sooner.
refusal-stamp-too-large = This file is too large to be watermarked, so it cannot be downloaded here; please ask the firm.
refusal-stamp-failed = { $name } could not be watermarked, so it is not served; please ask the firm.
refusal-not-multipart = The files must be sent with the form on this page.
refusal-too-many-parts = This upload holds too many files at once; send them in several goes.
refusal-field-too-long = The form field “{ $name }” is longer than { $max }.
refusal-field-not-text = A form field is not readable text.
refusal-malformed = The upload could not be read; please send it again.
refusal-unlock-first = Enter the passcode first: it came to you separately from the link.
refusal-form-malformed = The form could not be read; please fill it in and send it again.
finding-ssn = US social security numbers
finding-payment-card = payment card numbers
finding-iban = bank account numbers (IBAN)
finding-fr-nir = French social security numbers (NIR)
finding-email = e-mail addresses
finding-phone = phone numbers
finding-keyword = terms the firm asked to look for
finding-personal-data = personal data
