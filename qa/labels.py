"""The web page's own words in English and French (app.py). The page follows the browser's language
and has a switch; an answer is always in its question's language, whatever the page's."""
from __future__ import annotations

LANGS = ("en", "fr")

LABELS = {
    "en": {
        "title": "## Ask your documents — in English or French\n"
                 "Every answer quotes the sentences it comes from; click a citation [1] to see it in its file.",
        "switch": "Language of the page",
        "tab_ask": "Ask", "tab_docs": "Documents",
        "chat": "Conversation",
        "question": "Your question", "placeholder": "Ask a question about your documents…",
        "examples": "Examples",
        "new": "New conversation",
        "conversations": "Conversations", "rename": "Rename this conversation",
        "rename_hint": "A new title, then Enter", "delete": "Delete", "export": "Export (Markdown)",
        "exported": "The conversation as Markdown",
        "delete_ask": "Delete the conversation “{title}”? This cannot be undone.", "delete_yes": "Yes, delete",
        "cancel": "Cancel", "close": "Close the document",
        "search_in": "Search only in", "search_in_info": "Every document when none is chosen",
        "sources": "### Sources",
        "sources_empty": "Citations appear here: click one to see the passage in its file.",
        "source": "Source",
        "upload": "Add documents ({formats}): drop files here",
        "headers": ["Title", "File", "Languages", "Chunks", "Indexed"],
        "choose": "Indexed document",
        "remove": "Remove from the index",
        "remove_ask": "Remove “{title}” ({name}) from the index? An uploaded file is deleted too.",
        "remove_yes": "Yes, remove", "indexing": "Indexing {what}",
        "choose_first": "Choose a document to remove.",
        "not_indexed": "{name!r} is not an indexed document; the Documents list names them",
        "removed": "Removed {name} ({n} passages).",
        "reindex": "Re-index from its file", "open": "Open the document",
        "reindex_gone": "⚠️ {name} is no longer where it was indexed from: the document is kept as it was indexed "
                        "(remove it if it is gone for good).",
        "ready": "✓ Ready: {passages} passages from {docs} documents ({langs}).",
        "building": "… Building the index: {done}/{total} files ({what})…",
        "failed": "⚠️ The index could not be built: {error}",
        "mode": "Answers", "mode_extractive": "Quotes only (extractive)", "mode_llm": "Written by the model",
        "mode_info": "The model's every quote is checked in its file",
        "mode_none": "No language model is configured: start with QA_LLM_URL, QA_LLM_GGUF or --llm-url to choose",
        "by_extractive": "quotes only (extractive)", "by_llm": "written by the model",
        "dropped": "{n} claims dropped: {why}", "dropped_one": "1 claim dropped: {why}",
        "report": "{added} added, {updated} updated, {removed} removed, {unchanged} unchanged, {skipped} skipped, "
                  "{failed} failed, {chunks} chunks written",
        "report_added": "added {name}", "report_updated": "updated {name}", "report_unchanged": "unchanged {name}",
        "report_removed": "removed {name}", "searched": "searched: “{q}”",
    },
    "fr": {
        "title": "## Interrogez vos documents — en français ou en anglais\n"
                 "Chaque réponse cite les phrases dont elle vient ; cliquez sur une citation [1] pour la voir "
                 "dans son fichier.",
        "switch": "Langue de la page",
        "tab_ask": "Questions", "tab_docs": "Documents",
        "chat": "Conversation",
        "question": "Votre question", "placeholder": "Posez une question sur vos documents…",
        "examples": "Exemples",
        "new": "Nouvelle conversation",
        "conversations": "Conversations", "rename": "Renommer cette conversation",
        "rename_hint": "Un nouveau titre, puis Entrée", "delete": "Supprimer", "export": "Exporter (Markdown)",
        "exported": "La conversation en Markdown",
        "delete_ask": "Supprimer la conversation « {title} » ? C’est définitif.", "delete_yes": "Oui, supprimer",
        "cancel": "Annuler", "close": "Fermer le document",
        "search_in": "Chercher seulement dans", "search_in_info": "Tous les documents si aucun n’est choisi",
        "sources": "### Sources",
        "sources_empty": "Les citations s’affichent ici : cliquez sur l’une d’elles pour voir le passage dans "
                         "son fichier.",
        "source": "Source",
        "upload": "Ajouter des documents ({formats}) : déposez les fichiers ici",
        "headers": ["Titre", "Fichier", "Langues", "Passages", "Indexé le"],
        "choose": "Document indexé",
        "remove": "Retirer de l’index",
        "remove_ask": "Retirer « {title} » ({name}) de l’index ? Un fichier déposé ici est supprimé aussi.",
        "remove_yes": "Oui, retirer", "indexing": "Indexation de {what}",
        "choose_first": "Choisissez un document à retirer.",
        "not_indexed": "{name!r} n’est pas un document indexé ; la liste des documents les nomme",
        "removed": "{name} retiré ({n} passages).",
        "reindex": "Réindexer depuis son fichier", "open": "Ouvrir le document",
        "reindex_gone": "⚠️ {name} n’est plus là où il a été indexé : le document reste tel qu’il a été indexé "
                        "(retirez-le s’il a disparu pour de bon).",
        "ready": "✓ Prêt : {passages} passages de {docs} documents ({langs}).",
        "building": "… Construction de l’index : {done}/{total} fichiers ({what})…",
        "failed": "⚠️ L’index n’a pas pu être construit : {error}",
        "mode": "Réponses", "mode_extractive": "Citations seules (extractif)", "mode_llm": "Rédigées par le modèle",
        "mode_info": "Chaque citation du modèle est vérifiée dans son fichier",
        "mode_none": "Aucun modèle de langue n’est configuré : lancez avec QA_LLM_URL, QA_LLM_GGUF ou --llm-url pour choisir",
        "by_extractive": "citations seules (extractif)", "by_llm": "rédigée par le modèle",
        "dropped": "{n} affirmations écartées : {why}", "dropped_one": "1 affirmation écartée : {why}",
        "report": "ajoutés : {added}, mis à jour : {updated}, retirés : {removed}, inchangés : {unchanged}, "
                  "ignorés : {skipped}, en échec : {failed}, passages écrits : {chunks}",
        "report_added": "ajouté : {name}", "report_updated": "mis à jour : {name}", "report_unchanged": "inchangé : {name}",
        "report_removed": "retiré : {name}", "searched": "cherché : « {q} »",
    },
}


def label(lang: str, key: str, **values) -> str:
    """The page's text `key` in `lang` ("en" when it is neither), with `values` filled in."""
    text = LABELS[lang if lang in LABELS else "en"][key]
    return text.format(**values) if values else text


def page_lang(tag: str | None) -> str:
    """"fr-CA", "fr" -> "fr"; anything else -> "en" (a browser's navigator.language, a saved choice)."""
    return "fr" if str(tag or "").lower().startswith("fr") else "en"
