# Les pages que voit un client ou le destinataire d'un partage (français). Chaque clé figure
# aussi dans ../en/client.ftl ; un test échoue s'il en manque une.

language-switch-label = Langue
firm-line = { $firm }

## La page de dépôt (client_portal.html)
portal-title = Envoyer des documents à { $firm }
portal-intro = Cette page vous permet d'envoyer des documents à { $firm } en toute sécurité. Les fichiers sont chiffrés dès leur arrivée ; seul le cabinet peut les ouvrir. Une fois que le cabinet les a versés dans ses propres dossiers, ils sont supprimés de ce portail. Vous ne voyez pas les dépôts des autres personnes, et elles ne voient pas les vôtres.
portal-limits = Jusqu'à { $max_files } fichiers à la fois, chacun de { $max_size } au plus.
portal-accepted = Acceptés : { $accepted }. Les programmes, les scripts et les fichiers Office contenant des macros sont refusés.
portal-kept = Les fichiers envoyés sont conservés ici { $kept_for } au plus, puis supprimés définitivement ; le cabinet les supprime souvent plus tôt, dès qu'ils sont dans ses propres dossiers.
link-works-until = Ce lien est valable jusqu'au { $when }.
portal-choose = Choisissez des fichiers ou déposez-les ici
portal-send = Envoyer en toute sécurité
portal-contact = Des questions ? { $contact }

## Les formulaires de code d'accès (client_passcode.html, client_share_passcode.html)
passcode-title = Code d'accès — { $firm }
passcode-portal-intro = Ce portail est protégé par un code d'accès. { $firm } vous l'a communiqué séparément du lien.
passcode-share-intro = Ces documents sont protégés par un code d'accès. { $firm } vous l'a communiqué séparément du lien.
passcode-label = Code d'accès
passcode-continue = Continuer
passcode-wrong = Ce code d'accès n'est pas le bon. Vérifiez-le et réessayez.

## Le reçu (client_receipt.html et le script de la page)
receipt-title = Reçu — { $firm }
receipt-heading = Bien reçu, merci
receipt-intro = { $firm } a reçu ces fichiers pour « { $label } ». Conservez ce reçu : l'empreinte SHA-256 prouve exactement quel fichier est arrivé.
receipt-keep = Conservez ce reçu : l'empreinte SHA-256 prouve exactement quel fichier est arrivé.
receipt-file = Fichier
receipt-size = Taille
receipt-fingerprint = SHA-256
receipt-line = Reçu { $id } · { $when }
receipt-print = Imprimer ou enregistrer ce reçu
receipt-more = Envoyer d'autres fichiers

## États de chaque fichier sur la page de dépôt (upload.js) ; le script remplace {total}, {received}, {refused}
file-waiting = en attente
file-too-large = trop volumineux : ce fichier dépasse la taille autorisée
file-sending = envoi en cours
file-checking = vérification
file-accepted = reçu
file-refused = refusé
file-failed = non envoyé
file-connection-lost = connexion perdue ; non envoyé
file-cancelled = annulé
file-time-left = { $percent } %, encore { $left } environ
file-resuming = connexion perdue ; reprise…
file-cancel = Annuler
file-progress = Progression de { $name }
summary-all = Tous les fichiers ont été reçus : { "{total}" }.
summary-some = Fichiers reçus : { "{received}" } sur { "{total}" } ; non reçus : { "{refused}" }. La raison est indiquée à côté de chaque fichier.
summary-none = Aucun fichier n'a été reçu. La raison est indiquée à côté de chaque fichier.

## La page de partage (client_share.html)
share-title = Documents de { $firm }
share-heading = Documents pour { $recipient }
share-intro = { $firm } partage ces documents avec vous. Chaque téléchargement est enregistré, et les fichiers PDF et images portent votre nom et l'heure du téléchargement.
share-downloads = { $max ->
    [one] Chaque fichier peut être téléchargé une fois.
   *[other] Chaque fichier peut être téléchargé { $max } fois.
}
share-file = Fichier
share-size = Taille
share-download = Télécharger
share-downloaded = téléchargé
share-none = Aucun fichier n'est disponible.
