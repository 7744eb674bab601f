# The staff pages of matters, shares, legal holds and certificates of deletion (English):
# matters.html, matter.html, share.html, share_link.html, holds.html, certificate.html.
# Every key here is also in ../fr/staff-matters.ftl; a test fails when one is missing.

## Shared by these pages

staff-matters-never = never
staff-matters-archived = archived
staff-matters-firm-wide = firm-wide
staff-matters-col-name = Name
staff-matters-col-size = Size
staff-matters-col-uploaded = Uploaded
staff-matters-col-downloads = Downloads
# The "Copied" feedback of a copy button (ui.js reads it from data-copied)
staff-matters-copied = Copied
# A matter's sensitivity (tk("staff-matters-sensitivity", …))
staff-matters-sensitivity-normal = normal
staff-matters-sensitivity-confidential = confidential
staff-matters-sensitivity-restricted = restricted
# Where a share's link stands (tk("staff-matters-share-status", …)); closed: its matter is archived
staff-matters-share-status-active = active
staff-matters-share-status-revoked = revoked
staff-matters-share-status-expired = expired
staff-matters-share-status-closed = closed
# Why a document was shredded (tk("staff-matters-deletion-reason", …))
staff-matters-deletion-reason-staff = staff
staff-matters-deletion-reason-retention = retention
staff-matters-deletion-reason-filed = filed
staff-matters-deletion-reason-portal_deleted = portal deleted
staff-matters-deletion-reason-restored_journal = replayed after a restore

## matters.html

staff-matters-title = Matters — Courier
staff-matters-heading = Matters
staff-matters-col-department = Department
staff-matters-col-sensitivity = Sensitivity
staff-matters-col-members = Members
staff-matters-col-last-review = Last review
staff-matters-none = You are not a member of any matter.
staff-matters-new = New matter
staff-matters-label-name = Name
staff-matters-label-department = Department (optional)
staff-matters-label-sensitivity = Sensitivity
staff-matters-open = Open matter

## matter.html

staff-matter-department = Department: { $department }
staff-matter-department-none = Department: none
staff-matter-opened = Opened { $opened }; access last reviewed { $reviewed }
staff-matter-opened-never-reviewed = Opened { $opened }; access last reviewed never
# $retention is the rule in words (e.g. 90 days); $rule says whose it is (matter or firm)
staff-matter-retention = { $rule ->
    [matter] Documents stay { $retention } after upload (this matter's own rule) unless their portal says otherwise.
   *[firm] Documents stay { $retention } after upload (the firm's rule) unless their portal says otherwise.
}
staff-matter-held = A legal hold keeps every document of this matter.
staff-matter-documents = Documents
staff-matter-col-scan = Scan
staff-matter-col-shredding = Shredded
staff-matter-col-through-share = Through a share
staff-matter-share-doc = Share { $name }
# What the scanners made of a document (tk("staff-matter-scan", …))
staff-matter-scan-clean = clean
staff-matter-scan-flagged = flagged
staff-matter-scan-quarantined = quarantined
staff-matter-scan-infected = infected
staff-matter-scan-unscanned = unscanned
# Kinds of personal data found, after a count and "×" (tk("staff-matter-finding", …))
staff-matter-finding-ssn = US social security numbers
staff-matter-finding-payment_card = payment card numbers
staff-matter-finding-iban = bank account numbers (IBAN)
staff-matter-finding-fr_nir = French social security numbers (NIR)
staff-matter-finding-email = e-mail addresses
staff-matter-finding-phone = phone numbers
staff-matter-finding-keyword = terms your firm asked us to look for
staff-matter-on-hold = on hold
staff-matter-shred-at = goes { $when }
staff-matter-shred-filed = filed
staff-matter-shred-retention = retention
staff-matter-filed = filed { $when }
staff-matter-filed-reference = filed { $when } ({ $reference })
staff-matter-watermarked = watermarked
staff-matter-unchanged = served unchanged
staff-matter-download = Download
staff-matter-no-documents = No documents.
staff-matter-share-legend = Share the ticked documents
staff-matter-share-watermark = PDF, PNG and JPEG files are stamped with the recipient's name, the time and the share on every download. Other types are served unchanged.
staff-matter-label-recipient = Recipient (name shown in the watermark)
staff-matter-label-expires-in = Expires in (e.g. 7d; empty: never)
staff-matter-label-max-downloads = Downloads per file (empty: no limit)
staff-matter-label-passcode = Passcode (optional)
staff-matter-allow-findings = Some documents contain personal data, and sharing them is intended
staff-matter-create-share = Create share
staff-matter-holds-heading = Retention and legal holds
staff-matter-hold-since = Legal hold since { $when } by { $by }: { $reason }
staff-matter-release-placeholder = Reason for release
staff-matter-release-label = Reason for releasing the hold
staff-matter-release = Release hold
staff-matter-hold-placeholder = Reason (e.g. litigation, regulator's request)
staff-matter-hold-label = Reason for a legal hold on the matter
staff-matter-place-hold = Place a legal hold on the whole matter
staff-matter-label-retention = Retention (e.g. 90d; empty: the firm's)
staff-matter-set-retention = Set retention
staff-matter-shredded-heading = Shredded documents
staff-matter-col-shredded = Shredded
staff-matter-col-why = Why
staff-matter-certificate = Certificate of deletion
staff-matter-upload-heading = Upload to this matter
staff-matter-choose = Choose files, or drop them here
staff-matter-upload = Upload
staff-matter-shares = Shares
staff-matter-col-recipient = Recipient
staff-matter-col-status = Status
staff-matter-col-files = Files
staff-matter-col-expires = Expires
staff-matter-no-shares = No shares.
staff-matter-portals = Portals
# Where a portal's link stands (tk("staff-matter-portal-status", …)); closed: its matter is archived
staff-matter-portal-status-active = active
staff-matter-portal-status-disabled = disabled
staff-matter-portal-status-expired = expired
staff-matter-portal-status-closed = closed
staff-matter-portal-status-deleted = deleted
staff-matter-portal-status-unreadable = unreadable
staff-matter-no-portals = No portals.
staff-matter-members = Members
staff-matter-col-email = Email
staff-matter-col-role = Role on this matter
staff-matter-col-since = Since
# A member's role on the matter (tk("staff-matter-role", …) and the role list)
staff-matter-role-attorney = attorney
staff-matter-role-paralegal = paralegal
staff-matter-remove-confirm = Remove { $email } from this matter?
staff-matter-remove = Remove
staff-matter-everyone = Every staff member works in this matter.
staff-matter-no-members = No members.
staff-matter-label-email = Staff email
staff-matter-label-role = Role
staff-matter-add-member = Add or change member
staff-matter-review-heading = Record an access review
staff-matter-label-removed = What was removed (members, shares, portals; empty: nothing)
staff-matter-label-note = Note
staff-matter-record-review = Record review
staff-matter-reopen = Reopen matter
staff-matter-archive = Archive matter
staff-matter-break-glass-confirm = Break glass? This is audited and reported.
staff-matter-break-glass-placeholder = Reason for emergency access
staff-matter-break-glass-reason = Reason
staff-matter-break-glass-hours = Hours
staff-matter-break-glass = Break glass

## share.html

staff-share-title = Share for { $recipient } — Courier
staff-share-heading = Share for { $recipient }
staff-share-back = Back to the matter
staff-share-created = Created { $when } by { $by }; expires { $expires }
staff-share-created-no-expiry = Created { $when } by { $by }; expires never
staff-share-limit = { $n ->
    [one] At most { $n } download per file
   *[other] At most { $n } downloads per file
}
staff-share-limit-passcode = { $n ->
    [one] At most { $n } download per file; passcode required
   *[other] At most { $n } downloads per file; passcode required
}
staff-share-no-limit = No download limit
staff-share-no-limit-passcode = No download limit; passcode required
staff-share-files = Files
staff-share-col-watermark = Watermark
staff-share-watermark-yes = yes
staff-share-watermark-no = no (served unchanged)
staff-share-downloads = Downloads
staff-share-col-time = Time
staff-share-col-file = File
staff-share-col-ip = IP
staff-share-col-browser = Browser
staff-share-address-deleted = (address deleted)
staff-share-not-downloaded = Not downloaded yet.
staff-share-locked = Too many wrong passcodes were typed for this link: it refuses every passcode until { $until }.
staff-share-unlock = Unlock the passcode now
staff-share-revoke-confirm = Revoke this share? The link stops working at once.
staff-share-revoke = Revoke share

## share_link.html

staff-share-link-title = Share link — Courier
staff-share-link-heading = Share created for { $recipient }
staff-share-link-copy-now = Copy this link now.
staff-share-link-once = Courier stores only a fingerprint of it and cannot show it again.
staff-share-link-label = Share link
staff-share-link-copy = Copy
staff-share-link-watermarked = watermarked on download
staff-share-link-unchanged = served unchanged (no watermark for this type)
staff-share-link-go = Go to the share

## holds.html

staff-holds-title = Legal holds — Courier
staff-holds-heading = Legal holds
staff-holds-intro = A document under a legal hold (its own, or its matter's) is never shredded: not by retention, not after filing, not by a delete. Holds are never deleted; a released hold stays listed with who released it and why.
staff-holds-col-on = On
staff-holds-col-reason = Reason
staff-holds-col-placed = Placed
staff-holds-col-state = State
staff-holds-matter = matter
staff-holds-document = document
staff-holds-placed = { $when } by { $by }
staff-holds-active = active
staff-holds-released = released { $when } by { $by }: { $reason }
staff-holds-release-placeholder = Reason for release
staff-holds-release-label = Reason for releasing this hold
staff-holds-release = Release
staff-holds-none = No legal holds.

## certificate.html

staff-certificate-title = Certificate of deletion — Courier
staff-certificate-heading = Certificate of deletion
staff-certificate-intro = The document below was crypto-shredded: its key was destroyed, so its encrypted content can no longer be read by anyone, from this installation or from a later restore.
staff-certificate-document = Document
staff-certificate-size = Size
staff-certificate-size-value = { $bytes ->
    [one] { $size } ({ $bytes } byte)
   *[other] { $size } ({ $bytes } bytes)
}
staff-certificate-uploaded = Uploaded
staff-certificate-shredded = Shredded
staff-certificate-shredded-value = { $at } (reason: { $reason })
staff-certificate-event = Audit event
# Followed by the event's hash
staff-certificate-event-value = no. { $seq }, hash
staff-certificate-head = Signed audit head
staff-certificate-head-value = no. { $seq } at { $at }
staff-certificate-issued = Issued
staff-certificate-public-key = Audit public key
# Followed by the command that checks the certificate
staff-certificate-check = Check it offline:
staff-certificate-download = Download the signed certificate (JSON)
