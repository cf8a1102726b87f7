# SPDX-License-Identifier: Apache-2.0
# scripts/gen_dicom_basic.awk - write the built-in profile "dicom-basic"
# from PS3.15 Table E.1-1 (ps315_annex_e.tsv) and Table E.3.10-1
# (safe_private.tsv). Run with -F'\t', the two files in that order.
# Per row: the Basic action, then the options that keep (K), then the
# options that clean (C); the last rule whose condition holds wins, so
# clean beats keep beats Basic (see profiles/reference/standard-notes).
BEGIN {
    opt[7] = "retain-safe-private"; opt[8] = "retain-uids"
    opt[9] = "retain-device-identity"; opt[10] = "retain-institution-identity"
    opt[11] = "retain-patient-characteristics"
    opt[12] = "retain-longitudinal-full-dates"
    opt[13] = "retain-longitudinal-modified-dates"
    opt[14] = "clean-descriptors"; opt[15] = "clean-structured-content"
    opt[16] = "clean-graphics"
    print "# dicom-basic: DICOM PS3.15 2026d Basic Application Level Confidentiality"
    print "# Profile with all its options, generated from Table E.1-1 and Table E.3.10-1"
    print "# (profiles/reference/) by scripts/gen_dicom_basic.awk (make regen-profiles)."
    # four header lines, as before the file was tracked: rule line numbers stay
    print "# Do not edit. SPDX-License-Identifier: Apache-2.0"
    print "profile dicom-basic"
    print "version 2026d.1"
    print "description \"DICOM PS3.15 2026d Basic Application Level Confidentiality Profile\""
    print "code 113100 \"Basic Application Confidentiality Profile\""
    print ""
    print "option retain-safe-private code=113111 \"Retain Safe Private Option\""
    print "option retain-uids code=113110 \"Retain UIDs Option\""
    print "option retain-device-identity code=113109 \"Retain Device Identity Option\""
    print "option retain-institution-identity code=113112 \"Retain Institution Identity Option\""
    print "option retain-patient-characteristics code=113108 \"Retain Patient Characteristics Option\""
    print "option retain-longitudinal-full-dates code=113106 \"Retain Longitudinal Temporal Information Full Dates Option\""
    print "option retain-longitudinal-modified-dates code=113107 \"Retain Longitudinal Temporal Information Modified Dates Option\""
    print "option clean-descriptors code=113105 \"Clean Descriptors Option\""
    print "option clean-structured-content code=113104 \"Clean Structured Content Option\""
    print "option clean-graphics code=113103 \"Clean Graphics Option\""
    print "# Its code (113101) is recorded on each object whose pixels were cleaned."
    print "option clean-pixel-data \"Clean Pixel Data Option\""
    print "conflict retain-longitudinal-full-dates retain-longitudinal-modified-dates"
    print ""
    print "# Attributes no rule names are kept (Table E.1-1 is a deny list), except"
    print "# for the catch-alls by VR class below."
    print "default keep"
    print ""
    print "# Attributes kakou adds (PS3.15 E.1.1, E.2, E.3.6)."
    print "add PatientIdentityRemoved \"YES\""
    print "add LongitudinalTemporalInformationModified \"REMOVED\""
    print "add LongitudinalTemporalInformationModified \"UNMODIFIED\" when retain-longitudinal-full-dates"
    print "add LongitudinalTemporalInformationModified \"MODIFIED\" when retain-longitudinal-modified-dates"
    print ""
    print "# kakou additions, beyond the table (PS3.15 E.1-1 Notes 1 and 4): the"
    print "# table lists the minimum; identity also hides in attributes it does not"
    print "# name. Names, dates and UIDs are handled by VR, free text is cleaned."
    print "vr:PN X/Z/D"
    print "vr:DA,DT,TM X/Z/D"
    print "vr:DA,DT,TM K when retain-longitudinal-full-dates"
    print "vr:DA,DT,TM C when retain-longitudinal-modified-dates"
    print "vr:UI U"
    print "vr:UI K when retain-uids"
    print "vr:SH,LO,ST,LT,UT,UC C"
    print "# A URL or URI names where the original lives and carries its IDs and"
    print "# UIDs (WADO ?patientID=, /studies/UID): removed, except the ones of"
    print "# coding schemes below. An element of a standard group that the"
    print "# dictionary does not know, read as UN, may hold anything: removed."
    print "vr:UR X"
    print "vr:UN X"
    print "# Structural UIDs name SOP Classes, transfer syntaxes and coding schemes,"
    print "# not instances: they are never replaced (E.3.9 note)."
    print "SOPClassUID K"
    print "ReferencedSOPClassUID K"
    print "MediaStorageSOPClassUID K"
    print "TransferSyntaxUID K"
    print "ReferencedSOPClassUIDInFile K"
    print "ReferencedTransferSyntaxUIDInFile K"
    print "RelatedGeneralSOPClassUID K"
    print "OriginalSpecializedSOPClassUID K"
    print "CodingSchemeUID K"
    print "ContextGroupExtensionCreatorUID K"
    print "MappingResourceUID K"
    print "PrivateInformationCreatorUID K"
    print "SpecificCharacterSet K"
    print "# Coded entries name concepts of controlled terminologies (DCM 113100,"
    print "# SNOMED 91723000, LOINC 24627-2), not people; cleaning them as text"
    print "# would take numeric codes for IDs. Their meanings are still cleaned."
    print "CodeValue K"
    print "LongCodeValue K"
    print "CodingSchemeDesignator K"
    print "CodingSchemeVersion K"
    print "CodingSchemeURL K"
    print "URNCodeValue K"
    print ""
    print "# Table E.1-1, in the standard's order."
}
FNR == 1 || FNR == 2 { next }
FILENAME == ARGV[1] {
    tag = $1
    if (tag == "gggg,eeee") {
        # Private Attributes: X; with Retain Safe Private, the safe list
        # below is kept (matched by group, creator and low byte).
        printf "%-28s %s\n", "private", $6
        next
    }
    sel = "(" tag ")"
    name = $2 != "" ? $2 : $3
    printf "%-28s %-8s # %s\n", sel, $6, name
    for (i = 7; i <= 16; i++)
        if ($i == "K")
            printf "%-28s %-8s when %s\n", sel, $i, opt[i]
    for (i = 7; i <= 16; i++)
        if ($i != "" && $i != "K")
            printf "%-28s %-8s when %s\n", sel, $i, opt[i]
    next
}
{
    if (!printed_safe) {
        print ""
        print "# Table E.3.10-1 Safe Private Attributes (Retain Safe Private Option)."
        printed_safe = 1
    }
    gsub(/"/, "\\\"", $2)
    printf "(%s,\"%s\") K when retain-safe-private\n", $1, $2
}

END {
    print ""
    print "# Burned-in text in the pixels (Clean Pixel Data Option, PS3.15 E.3.1):"
    print "# the rules are data of their own, in profiles/pixel-text.kkp."
    print "include pixel-text"
}
