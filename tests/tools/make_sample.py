#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/tools/make_sample.py - write the bundled sample study for `make run`.

Usage: make_sample.py [OUTDIR]      (default: testdata/sample of this tree)

Writes three small synthetic DICOM files with fake PHI, all in
`\\ISO 2022 IR 87` (Japanese, ISO 2022 escapes):
  ct-1.dcm  CT image, 8x8 16-bit
  ct-2.dcm  CT image in the same series; Referenced Image Sequence -> ct-1
  sr-1.dcm  Basic Text SR referring to both images
Patient: Yamada^Tarou=山田^太郎=やまだ^たろう, ID KAKOU-0001, born 19650412;
the referring physician, institution, accession number, dates and a
free-text finding are filled in too, so `kakou deid` has something to do.
Everything is made up, and the output is the same on every run.
"""
import os
import sys

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
CT = "1.2.840.10008.5.1.4.1.1.2"
BASIC_SR = "1.2.840.10008.5.1.4.1.1.88.11"
ROOT = "2.25.1234567890123456789012345678"   # fixed, made-up UIDs
STUDY, CT_SERIES, SR_SERIES, FOR = ROOT + "1", ROOT + "2", ROOT + "3", ROOT + "4"
SOPS = [ROOT + "51", ROOT + "52", ROOT + "53"]
CHARSET = ["", "ISO 2022 IR 87"]


def code(value, scheme, meaning):
    c = Dataset()
    c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning = value, scheme, meaning
    return c


def common(ds, sop_class, sop, series, modality, number):
    ds.SpecificCharacterSet = CHARSET
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20240315"
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "101530"
    ds.AccessionNumber = "ACC20240315"
    ds.Modality = modality
    ds.Manufacturer = "Kakou Sample Devices"
    ds.InstitutionName = "Kakou Sample Hospital"
    ds.InstitutionAddress = "1-2-3 Sample-cho, Chiyoda-ku, Tokyo"
    ds.StationName = "KAKOU-CT01"
    ds.ReferringPhysicianName = "Suzuki^Hanako=鈴木^花子=すずき^はなこ"
    ds.StudyDescription = "CT chest"
    ds.OperatorsName = "Sato^Jiro"
    ds.PatientName = "Yamada^Tarou=山田^太郎=やまだ^たろう"
    ds.PatientID = "KAKOU-0001"
    ds.PatientBirthDate = "19650412"
    ds.PatientSex = "M"
    ds.PatientAge = "058Y"
    ds.StudyInstanceUID = STUDY
    ds.SeriesInstanceUID = series
    ds.StudyID = "S1"
    ds.SeriesNumber = 1 if series == CT_SERIES else 2
    ds.InstanceNumber = number


def ct(number):
    ds = Dataset()
    common(ds, CT, SOPS[number - 1], CT_SERIES, "CT", number)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.BodyPartExamined = "CHEST"
    ds.FrameOfReferenceUID = FOR
    ds.PositionReferenceIndicator = ""
    ds.PatientPosition = "HFS"
    ds.ImagePositionPatient = [0, 0, number * 5]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [1, 1]
    ds.SliceThickness = 5
    ds.KVP = 120
    ds.AcquisitionNumber = 1
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = 8
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
    ds.BurnedInAnnotation = "NO"
    if number == 2:
        r = Dataset()
        r.ReferencedSOPClassUID = CT
        r.ReferencedSOPInstanceUID = SOPS[0]
        ds.ReferencedImageSequence = Sequence([r])
    px = bytearray()
    for y in range(8):
        for x in range(8):
            v = 1024 + 40 * ((x + y + number) % 8)
            px += bytes([v & 0xFF, v >> 8])
    ds.PixelData = bytes(px)
    ds["PixelData"].VR = "OW"
    return ds


def sr():
    ds = Dataset()
    common(ds, BASIC_SR, SOPS[2], SR_SERIES, "SR", 1)
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = Sequence([code("18748-4", "LN", "Diagnostic Imaging Report")])
    ds.ContinuityOfContent = "SEPARATE"
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "VERIFIED"
    obs = Dataset()
    obs.VerifyingObserverName = "Suzuki^Hanako=鈴木^花子=すずき^はなこ"
    obs.VerifyingOrganization = "Kakou Sample Hospital"
    obs.VerificationDateTime = "20240315120000"
    obs.VerifyingObserverIdentificationCodeSequence = Sequence()
    ds.VerifyingObserverSequence = Sequence([obs])
    ds.ReferencedPerformedProcedureStepSequence = Sequence()
    ds.PerformedProcedureCodeSequence = Sequence()
    refs = []
    for sop in SOPS[:2]:
        r = Dataset()
        r.ReferencedSOPClassUID = CT
        r.ReferencedSOPInstanceUID = sop
        refs.append(r)
    ser = Dataset()
    ser.SeriesInstanceUID = CT_SERIES
    ser.ReferencedSOPSequence = Sequence(refs)
    st = Dataset()
    st.StudyInstanceUID = STUDY
    st.ReferencedSeriesSequence = Sequence([ser])
    ds.CurrentRequestedProcedureEvidenceSequence = Sequence([st])
    text = Dataset()
    text.RelationshipType = "CONTAINS"
    text.ValueType = "TEXT"
    text.ConceptNameCodeSequence = Sequence([code("121071", "DCM", "Finding")])
    text.TextValue = "No acute findings. Patient Yamada Tarou (山田太郎), seen 2024-03-15."
    img = Dataset()
    img.RelationshipType = "CONTAINS"
    img.ValueType = "IMAGE"
    img.ConceptNameCodeSequence = Sequence([code("121200", "DCM", "Illustration of ROI")])
    rs = Dataset()
    rs.ReferencedSOPClassUID = CT
    rs.ReferencedSOPInstanceUID = SOPS[0]
    img.ReferencedSOPSequence = Sequence([rs])
    ds.ContentSequence = Sequence([text, img])
    return ds


def save(ds, path):
    fm = FileMetaDataset()
    fm.MediaStorageSOPClassUID = ds.SOPClassUID
    fm.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    fm.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    fm.ImplementationClassUID = ROOT + "9"
    fm.ImplementationVersionName = "KAKOU_SAMPLE"
    fm.SourceApplicationEntityTitle = "SAMPLE_MODALITY"
    ds.file_meta = fm
    ds.preamble = b"\0" * 128
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(path, write_like_original=False)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "testdata", "sample")
    os.makedirs(out, exist_ok=True)
    for name, ds in (("ct-1.dcm", ct(1)), ("ct-2.dcm", ct(2)), ("sr-1.dcm", sr())):
        save(ds, os.path.join(out, name))
    print("wrote 3 files to %s" % os.path.normpath(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
