# SPDX-License-Identifier: Apache-2.0
"""bench/phi_tags.py - the "usual PHI tags" a hand-written de-identification
script touches, shared by the dcmodify, gdcmanon --dumb and pydicom rows of
the benchmark so the three do the same work.

This is deliberately the kind of list a user writes by hand (names, IDs,
birth date, address, phone, institution, staff, accession, free-text
comments, request sequences), not the PS3.15 Basic Profile: that is what
kakou's dicom-basic and gdcmanon -e implement. Each entry is
(group, element, keyword, action) with action one of
  ("replace", VALUE)  set to VALUE (a dummy that keeps the Type 1/2 element)
  ("empty",)          keep the element with an empty value (Type 2)
  ("remove",)         delete the element
"""

PHI_TAGS = [
    # Patient
    (0x0010, 0x0010, "PatientName", ("replace", "ANONYMOUS")),
    (0x0010, 0x0020, "PatientID", ("replace", "ANON0001")),
    (0x0010, 0x0030, "PatientBirthDate", ("empty",)),
    (0x0010, 0x0032, "PatientBirthTime", ("remove",)),
    (0x0010, 0x1000, "OtherPatientIDs", ("remove",)),
    (0x0010, 0x1001, "OtherPatientNames", ("remove",)),
    (0x0010, 0x1002, "OtherPatientIDsSequence", ("remove",)),
    (0x0010, 0x1010, "PatientAge", ("remove",)),
    (0x0010, 0x1020, "PatientSize", ("remove",)),
    (0x0010, 0x1030, "PatientWeight", ("remove",)),
    (0x0010, 0x1040, "PatientAddress", ("remove",)),
    (0x0010, 0x2154, "PatientTelephoneNumbers", ("remove",)),
    (0x0010, 0x2180, "Occupation", ("remove",)),
    (0x0010, 0x2000, "MedicalAlerts", ("remove",)),
    (0x0010, 0x2110, "Allergies", ("remove",)),
    (0x0010, 0x21B0, "AdditionalPatientHistory", ("remove",)),
    (0x0010, 0x4000, "PatientComments", ("remove",)),
    # Study / visit
    (0x0008, 0x0050, "AccessionNumber", ("empty",)),
    (0x0020, 0x0010, "StudyID", ("empty",)),
    (0x0008, 0x0090, "ReferringPhysicianName", ("empty",)),
    (0x0008, 0x0092, "ReferringPhysicianAddress", ("remove",)),
    (0x0008, 0x0094, "ReferringPhysicianTelephoneNumbers", ("remove",)),
    (0x0008, 0x1048, "PhysiciansOfRecord", ("remove",)),
    (0x0008, 0x1060, "NameOfPhysiciansReadingStudy", ("remove",)),
    (0x0032, 0x1032, "RequestingPhysician", ("remove",)),
    (0x0040, 0x0275, "RequestAttributesSequence", ("remove",)),
    (0x0040, 0x0253, "PerformedProcedureStepID", ("remove",)),
    # Equipment / staff
    (0x0008, 0x0080, "InstitutionName", ("remove",)),
    (0x0008, 0x0081, "InstitutionAddress", ("remove",)),
    (0x0008, 0x1040, "InstitutionalDepartmentName", ("remove",)),
    (0x0008, 0x1010, "StationName", ("remove",)),
    (0x0018, 0x1000, "DeviceSerialNumber", ("remove",)),
    (0x0008, 0x1050, "PerformingPhysicianName", ("remove",)),
    (0x0008, 0x1070, "OperatorsName", ("remove",)),
    # Free text
    (0x0020, 0x4000, "ImageComments", ("remove",)),
]


def dcmodify_args() -> list[str]:
    """dcmodify options for PHI_TAGS: -ma on every match (nested ones too)
    for replace/empty, -ea for remove, -ep for all private data."""
    out: list[str] = []
    for g, e, _kw, action in PHI_TAGS:
        tag = f"({g:04X},{e:04X})"
        if action[0] == "replace":
            out += ["-ma", f"{tag}={action[1]}"]
        elif action[0] == "empty":
            out += ["-ma", f"{tag}="]
        else:
            out += ["-ea", tag]
    return out + ["-ep"]


def gdcmanon_dumb_args() -> list[str]:
    """gdcmanon --dumb options for PHI_TAGS (it has no remove-all-private
    switch: private data are kept, as with gdcmanon -e)."""
    out: list[str] = ["--dumb"]
    for g, e, _kw, action in PHI_TAGS:
        tag = f"{g:04x},{e:04x}"
        if action[0] == "replace":
            out += ["--replace", f"{tag}={action[1]}"]
        elif action[0] == "empty":
            out += ["--empty", tag]
        else:
            out += ["--remove", tag]
    return out
