-- 1 once a request found sealed segments past the committed length and cut them off: the
-- next request seals its bytes under the same segment nonces, so a copy of the cut-off
-- ciphertext and the file's would be two ciphertexts under one nonce. Such a file is not
-- adopted as the document's blob; its plaintext is sealed anew under a fresh data key.
ALTER TABLE tus_uploads ADD COLUMN cut_back BIGINT NOT NULL DEFAULT 0;
